/*
 * compel_log(): a small printf into the control area's ring buffer, which
 * the host drains after each command.  No syscall, no locking: one thread
 * of the parasite logs at a time, and the host reads only while it waits.
 */
#include <stdarg.h>

#include <compel/plugins/std.h>

struct out {
	struct compel_parasite_ctl *ctl;
};

static void put(struct out *o, char c)
{
	struct compel_parasite_ctl *ctl = o->ctl;

	ctl->log[ctl->log_written % COMPEL_LOG_SIZE] = c;
	/* The host may read up to log_written as soon as it sees it. */
	__atomic_store_n(&ctl->log_written, ctl->log_written + 1, __ATOMIC_RELEASE);
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put(o, *s++);
}

static void put_num(struct out *o, unsigned long long v, unsigned int base, int width, char pad, int neg,
		    int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	for (; width > n; width--)
		put(o, pad);
	while (n)
		put(o, buf[--n]);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0, width = 0;
		char pad = ' ';
		unsigned long long u;
		long long s;

		if (*fmt != '%') {
			put(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		switch (*fmt) {
		case 'd':
		case 'i':
			s = longs > 1 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
			put_num(o, s < 0 ? -(unsigned long long)s : (unsigned long long)s, 10, width, pad, s < 0, 0);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = longs > 1	? va_arg(ap, unsigned long long)
			    : longs ? va_arg(ap, unsigned long)
				    : va_arg(ap, unsigned int);
			put_num(o, u, *fmt == 'u' ? 10 : 16, width, pad, 0, *fmt == 'X');
			break;
		case 'p':
			put_str(o, "0x");
			put_num(o, (unsigned long)va_arg(ap, void *), 16, width, pad, 0, 0);
			break;
		case 's':
			put_str(o, va_arg(ap, const char *));
			break;
		case 'c':
			put(o, (char)va_arg(ap, int));
			break;
		case '%':
			put(o, '%');
			break;
		default:
			put(o, '%');
			if (!*fmt)
				return;
			put(o, *fmt);
		}
	}
}

void compel_log(const char *fmt, ...)
{
	struct out o = {compel_ctl()};
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	put(&o, '\n');
}
