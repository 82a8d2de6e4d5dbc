#include "TaskArch.h"

namespace compel::core {

const TaskArch *task_arch_by_regset_size(size_t size)
{
	for (const TaskArch *a : host_task_arches())
		if (a->gpr_size() == size)
			return a;
	return nullptr;
}

} // namespace compel::core
