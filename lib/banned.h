/*
 * banned.h — C library functions fd does not use, made compile errors (the idea of git's
 * banned.h).  Every lib/ and cmd/ source includes it after all its other includes; a header
 * never does (a system header read after it would trip over the macros).
 *
 * The error names the function: "sorry_strcpy_is_a_banned_function".  What to use instead:
 *   strcpy, strcat, strncpy, strncat   snprintf, memcpy with a known length, or an fd_buf
 *   sprintf, vsprintf                  snprintf, vsnprintf, fd_buf_addf
 *   gets                               fgets, getline
 *   strtok, strtok_r                   strchr / strcspn over the string (no hidden state)
 *   atoi, atol, atoll                  strtol / strtoll with an end pointer and a range check
 *   gmtime, localtime, ctime, asctime  gmtime_r, fd_format_ts, fd_tz (fd_tz.h)
 *   tmpnam, tempnam, mktemp            mkstemp, mkdtemp
 */
#ifndef FD_BANNED_H
#define FD_BANNED_H

#define FD_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) FD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) FD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) FD_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) FD_BANNED(strncat)

#undef sprintf
#define sprintf(...) FD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) FD_BANNED(vsprintf)

#undef gets
#define gets(x) FD_BANNED(gets)

#undef strtok
#define strtok(x, y) FD_BANNED(strtok)
#undef strtok_r
#define strtok_r(x, y, z) FD_BANNED(strtok_r)

#undef atoi
#define atoi(x) FD_BANNED(atoi)
#undef atol
#define atol(x) FD_BANNED(atol)
#undef atoll
#define atoll(x) FD_BANNED(atoll)

#undef gmtime
#define gmtime(t) FD_BANNED(gmtime)
#undef localtime
#define localtime(t) FD_BANNED(localtime)
#undef ctime
#define ctime(t) FD_BANNED(ctime)
#undef ctime_r
#define ctime_r(t, buf) FD_BANNED(ctime_r)
#undef asctime
#define asctime(t) FD_BANNED(asctime)
#undef asctime_r
#define asctime_r(t, buf) FD_BANNED(asctime_r)

#undef tmpnam
#define tmpnam(x) FD_BANNED(tmpnam)
#undef tempnam
#define tempnam(d, p) FD_BANNED(tempnam)
#undef mktemp
#define mktemp(x) FD_BANNED(mktemp)

#endif
