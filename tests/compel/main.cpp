// The compel tests' runner: Catch2's, with the choice of victims and of the
// parasite's build, for runs that cover one combination each (the ARM VMs).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "Victim.h"

int main(int argc, char **argv)
{
	Catch::Session session;
	std::string victims, parasite;
	using Catch::clara::Opt;
	session.cli(session.cli() |
		    Opt(victims, "name,...")["--victims"]("the builds of the victim to infect (default: all)") |
		    Opt(parasite, "arm|thumb")["--parasite"]("the build of the test parasite for ARM tasks") |
		    Opt(foreign_victim, "path")["--foreign-victim"]("a victim of an arch this host cannot trace"));
	if (int rc = session.applyCommandLine(argc, argv))
		return rc;
	if (!victims.empty() && !choose_victims(victims)) {
		std::fprintf(stderr, "--victims %s: not builds of the victim this run has\n", victims.c_str());
		return 2;
	}
	if (!parasite.empty() && !choose_parasite(parasite)) {
		std::fprintf(stderr, "--parasite %s: the test parasite has no such build\n", parasite.c_str());
		return 2;
	}
	return session.run();
}
