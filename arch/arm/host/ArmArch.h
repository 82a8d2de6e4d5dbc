#pragma once

#include "TaskArch.h"

namespace compel::core {

// ARM tasks (EABI, ARM and Thumb code): on an ARM host, and as compat tasks
// on an AArch64 one.
const TaskArch &arm_task_arch();

} // namespace compel::core
