/* SPDX-License-Identifier: MIT */
/*
 * An incremental JSON structure scanner: fed the bytes of a file as they
 * are written, it tells whether they form one complete JSON document yet,
 * could still become one, or never can. It builds nothing and allocates
 * nothing; the bytes are parsed for real (jansson) once complete. Pure,
 * like the rest of src/util: a spec written by `echo` is committed by the
 * write(2) that completes it, and refused by the first write that breaks
 * it, because a shell ignores close(2) on a redirection.
 *
 * What it checks is RFC 8259's grammar: structure, string escapes, control
 * characters in strings, number syntax, literals, and nesting up to
 * JSCAN_DEPTH (jansson's default limit). What it does not: UTF-8 validity,
 * duplicate keys, numbers too large for jansson, \u0000: the parse at the
 * end refuses those. So a document the scanner calls complete may still be
 * refused by the parser, but bytes the parser would accept are never
 * refused by the scanner, whatever the writes' sizes.
 */
#ifndef CLOUDFS_JSONSCAN_H
#define CLOUDFS_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (jansson's JSON_PARSER_DEFAULT_DEPTH). */
#define JSCAN_DEPTH 2048

enum jscan_status {
	JSCAN_MORE, /* no complete document yet; more bytes may make one */
	JSCAN_DONE, /* one complete document, then only whitespace */
	JSCAN_BAD, /* can never become one document (jscan.why, jscan.at) */
};

/* The scanner's state: plain data, copyable, zeroed by jscan_init(). */
struct jscan {
	uint8_t state; /* what the next byte may be (jsonscan.c) */
	uint8_t sub; /* within a string escape, number or literal */
	bool top_object; /* the document must be an object (a spec) */
	bool key; /* the string being read is an object's key */
	uint16_t depth; /* open arrays and objects */
	uint8_t stack[JSCAN_DEPTH / 8]; /* per level: 1 object, 0 array */
	const char *lit; /* the literal being matched ("true", ...) */
	size_t pos; /* bytes fed so far */
	size_t at; /* JSCAN_BAD: the offset of the byte that broke it */
	const char *why; /* JSCAN_BAD: what was wrong, a static string */
	enum jscan_status status;
};

/* Starts a document; @top_object: anything but an object is refused at its
 * first byte. */
void jscan_init(struct jscan *s, bool top_object);
/* Feeds @len more bytes; returns the status after them. Once JSCAN_BAD it
 * stays so. Feeding bytes in any pieces gives the same result as feeding
 * them at once. */
enum jscan_status jscan_feed(struct jscan *s, const char *buf, size_t len);

#endif
