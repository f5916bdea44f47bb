/* SPDX-License-Identifier: MIT */
/* Name encoding between cloud and file system. Layer: pure helper. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/names.h"

char *names_encode(const char *name)
{
	size_t n = strlen(name), o = 0;
	bool dots = !strcmp(name, ".") || !strcmp(name, "..");
	char *out;

	if (!n)
		return NULL;
	out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *esc = NULL;

		if (name[i] == '%')
			esc = "%25";
		else if (name[i] == '/')
			esc = "%2F";
		else if (dots)
			esc = "%2E";
		if (esc) {
			memcpy(out + o, esc, 3);
			o += 3;
		} else {
			out[o++] = name[i];
		}
	}
	out[o] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)toupper((unsigned char)c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *names_decode(const char *file)
{
	size_t n = strlen(file), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo, c;

		if (file[i] != '%') {
			out[o++] = file[i];
			continue;
		}
		/* Only the three escapes names_encode() produces are valid. */
		hi = i + 2 < n ? hexval(file[i + 1]) : -1;
		lo = i + 2 < n ? hexval(file[i + 2]) : -1;
		c = hi * 16 + lo;
		if (hi < 0 || lo < 0 || (c != '%' && c != '/' && c != '.')) {
			free(out);
			return NULL;
		}
		out[o++] = (char)c;
		i += 2;
	}
	out[o] = '\0';
	return out;
}

bool names_is_uuid(const char *s)
{
	size_t hex = 0;

	for (; *s; s++) {
		if (isxdigit((unsigned char)*s))
			hex++;
		else if (*s != '-')
			return false;
	}
	return hex == 32;
}

char *names_url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}
