// Which helpers a tree needs to be made again: a process with the pid of
// each session or process group whose leader is not in the tree.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "RestoreTree.h"

using namespace criu;

namespace {

struct Proc {
	uint32_t pid, ppid, pgid, sid;
};

// The pstree entries of procs, the root first, as read_images() would have
// them (helper_pids() looks at nothing else).
class Tree {
public:
	explicit Tree(const std::vector<Proc> &procs) : procs_(procs), pids_(procs.size()), entries_(procs.size())
	{
		for (size_t i = 0; i < procs.size(); i++) {
			pids_[i] = NS_PID__INIT;
			pids_[i].n_levels = 1;
			pids_[i].levels = &procs_[i].pid;
			entries_[i] = PSTREE_ENTRY__INIT;
			entries_[i].pid = &pids_[i];
			entries_[i].ppid = procs[i].ppid, entries_[i].pgid = procs[i].pgid, entries_[i].sid = procs[i].sid;
			RestoreImages &img = tree.procs.emplace_back();
			img.pid = pid_t(procs[i].pid);
			img.pstree = &entries_[i];
		}
	}

	RestoreTree tree;

private:
	std::vector<Proc> procs_;
	std::vector<NsPid> pids_;
	std::vector<PstreeEntry> entries_;
};

std::set<pid_t> helpers(const std::vector<Proc> &procs, bool shell_job = false)
{
	Tree t(procs);
	return TreeRestorer::helper_pids(t.tree, shell_job);
}

} // namespace

TEST_CASE("a tree needs a helper for each session or group whose leader it lacks", "[criu][restore]")
{
	// Root 10 leads a session; 11 leads a group that 12 is in; 13 is in the
	// group of 20, which has ended.
	CHECK(helpers({{10, 0, 10, 10}, {11, 10, 11, 10}, {12, 11, 11, 10}, {13, 10, 20, 10}}) == std::set<pid_t>{20});
	// An orphan of the root in session 30, whose leader has ended: one helper
	// leads the session and the orphan's group with it.
	CHECK(helpers({{10, 0, 10, 10}, {31, 10, 30, 30}, {32, 10, 30, 30}}) == std::set<pid_t>{30});
	// Another group of that session, whose leader has ended too.
	CHECK(helpers({{10, 0, 10, 10}, {31, 10, 30, 30}, {32, 10, 33, 30}}) == std::set<pid_t>{30, 33});
	// 11 leads a group, live or a zombie: it is in the tree, no helper.
	CHECK(helpers({{10, 0, 10, 10}, {11, 10, 11, 10}, {12, 10, 11, 10}}).empty());
}

TEST_CASE("the root's session and group led outside the tree are criu's: no helper", "[criu][restore]")
{
	// The root is in its shell's session 5 and group 6; so is its child.
	CHECK(helpers({{10, 0, 6, 5}, {11, 10, 6, 5}}).empty());
	// With --shell-job even a root that leads its session stays in criu's,
	// and so do the processes of that session.
	CHECK(helpers({{10, 0, 10, 10}, {11, 10, 10, 10}}, true).empty());
	// A group of its own in criu's session is made by its leader.
	CHECK(helpers({{10, 0, 6, 5}, {11, 10, 11, 5}, {12, 11, 11, 5}}).empty());
}
