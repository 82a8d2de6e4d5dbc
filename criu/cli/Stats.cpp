#include "Stats.h"

#include <compel/error.hpp>

#include "Image.h"
#include "Log.h"

namespace criu {

void write_stats(const ImagesDir &dir, const StatsEntry &stats)
{
	const char *name = stats.dump ? "stats-dump.img" : "stats-restore.img";
	try {
		ImageWriter w(dir.fd(), dir.path(), ImageKind::Stats, name);
		w.write(&stats.base);
		w.commit();
	} catch (const compel::Error &e) {
		LOG_WARN("%s", e.what());
	}
}

} // namespace criu
