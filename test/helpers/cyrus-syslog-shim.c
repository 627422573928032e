/*
 * LD_PRELOAD shim for the Cyrus interop tests (test/helpers/cyrus.ts): Cyrus
 * logs only through syslog(3), and the test machine has no syslog daemon, so
 * this replaces syslog/vsyslog with an append to the file named by
 * CYRUS_LOG_FILE (one line a call, 4 KiB at most). Without that variable it
 * drops the line. Test-only: never installed, never loaded by mbdir.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include <string.h>
#include <fcntl.h>
static const char *ident_ = "";
void openlog(const char *ident, int option, int facility) { ident_ = ident ? ident : ""; }
void closelog(void) {}
void vsyslog(int pri, const char *fmt, va_list ap) {
  const char *path = getenv("CYRUS_LOG_FILE");
  if (!path) return;
  char buf[4096]; int n = snprintf(buf, sizeof buf, "%s[%d] %d: ", ident_, (int)getpid(), pri & 7);
  if (n < 0) return;
  int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  if (m < 0) return;
  size_t len = strlen(buf); buf[len++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return;
  (void)!write(fd, buf, len); close(fd);
}
void syslog(int pri, const char *fmt, ...) { va_list ap; va_start(ap, fmt); vsyslog(pri, fmt, ap); va_end(ap); }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { va_list ap; va_start(ap, fmt); vsyslog(pri, fmt, ap); va_end(ap); }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap) { vsyslog(pri, fmt, ap); }
