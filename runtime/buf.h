/*
 * buf.h — a growable byte buffer, and JSON text written into one.
 *
 * The runtime builds every record it writes (audit lines, journal records,
 * HTTP responses, rendered commands) in a struct buf.  A buffer owns its
 * memory; buf_release() frees it.  Allocation failure is fatal (trig_oom()):
 * a server that cannot allocate a few bytes cannot keep its promises.
 */
#ifndef TRIG_BUF_H
#define TRIG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;             /* NUL-terminated whenever data != NULL */
	size_t len, cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);          /* len = 0, keeps the memory */
void buf_release(struct buf *b);        /* frees; the buffer is BUF_INIT again */
char *buf_detach(struct buf *b);        /* hands the string to the caller */
const char *buf_cstr(struct buf *b);    /* "" for an empty buffer */

/* A JSON string with its quotes.  Invalid UTF-8 becomes U+FFFD; control
 * characters are escaped, so the result is always one line. */
void buf_json_str(struct buf *b, const char *s, size_t len);
void buf_json_cstr(struct buf *b, const char *s);       /* NULL: null */

/* Called on allocation failure: logs and aborts. */
_Noreturn void trig_oom(void);
void *trig_xmalloc(size_t n);
void *trig_xcalloc(size_t n, size_t size);
void *trig_xrealloc(void *p, size_t n);
char *trig_xstrdup(const char *s);

#endif
