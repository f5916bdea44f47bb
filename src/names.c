/* SPDX-License-Identifier: MIT */
/* Name encoding between cloud and file system. Layer: pure helper. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/names.h"

char *names_encode_len(const char *name, size_t n)
{
	bool dots = (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.');
	size_t o = 0;
	char *out;

	if (!n || n > (SIZE_MAX - 1) / 3)
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
		else if (name[i] == '\0')
			esc = "%00";
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

char *names_encode(const char *name)
{
	return names_encode_len(name, strlen(name));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)toupper((unsigned char)c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *names_decode_len(const char *file, size_t *len)
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
		/* Only the escapes names_encode() produces are valid. */
		hi = i + 2 < n ? hexval(file[i + 1]) : -1;
		lo = i + 2 < n ? hexval(file[i + 2]) : -1;
		c = hi * 16 + lo;
		if (hi < 0 || lo < 0 || (c != '%' && c != '/' && c != '.' && c != 0)) {
			free(out);
			return NULL;
		}
		out[o++] = (char)c;
		i += 2;
	}
	out[o] = '\0';
	*len = o;
	return out;
}

char *names_decode(const char *file)
{
	size_t len;
	char *out = names_decode_len(file, &len);

	/* A C string cannot hold the NUL a "%00" stands for. */
	if (out && memchr(out, '\0', len)) {
		free(out);
		return NULL;
	}
	return out;
}

bool names_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p++;
		size_t more;
		unsigned cp, min;

		if (c < 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xDF) {
			more = 1, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			more = 2, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) < more)
			return false;
		for (size_t i = 0; i < more; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3F);
		}
		/* Overlong forms, UTF-16 surrogates and beyond U+10FFFF are
		 * what jansson rejects too. */
		if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return false;
	}
	return true;
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
