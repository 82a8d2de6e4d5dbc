#include "../mismatch.h"

void __export_touch(struct shared *s);

void __export_touch(struct shared *s)
{
	s->b = s->a;
}
