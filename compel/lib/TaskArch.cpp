#include "TaskArch.h"

namespace compel::core {

const TaskArch *task_arch_of(const RegSet &r)
{
	for (const TaskArch *a : host_task_arches())
		if (a->owns(r))
			return a;
	return nullptr;
}

} // namespace compel::core
