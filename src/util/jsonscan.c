/* SPDX-License-Identifier: MIT */
/*
 * The incremental JSON structure scanner (jsonscan.h): one byte at a time,
 * a state and a bit per open level (object or array). A number has no end
 * marker of its own: it ends at the first byte that cannot continue it,
 * which is then read again as what follows the number.
 * Layer: util (libc only).
 */
#include <string.h>

#include "cloudfs/jsonscan.h"

enum {
	ST_VALUE, /* a value */
	ST_VALUE_OR_CLOSE, /* a value or ']' (just after '[') */
	ST_KEY, /* an object's key */
	ST_KEY_OR_CLOSE, /* a key or '}' (just after '{') */
	ST_COLON, /* ':' after a key */
	ST_AFTER, /* ',' or the end of the open array or object */
	ST_STRING,
	ST_ESCAPE, /* after '\' in a string */
	ST_UNICODE, /* sub: hex digits of \uXXXX read so far */
	ST_NUMBER, /* sub: where in the number (N_*) */
	ST_LITERAL, /* sub: bytes of lit matched so far */
	ST_DONE, /* the document is complete: only whitespace may follow */
	ST_BAD,
};

/* Where in a number: what has been read last. */
enum {
	N_MINUS, /* '-': a digit must follow */
	N_ZERO, /* a leading 0: no digit may follow it */
	N_INT, /* digits of the integer part */
	N_DOT, /* '.': a digit must follow */
	N_FRAC, /* digits of the fraction */
	N_E, /* 'e' or 'E': a sign or digit must follow */
	N_ESIGN, /* the exponent's sign: a digit must follow */
	N_EXP, /* digits of the exponent */
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void bad(struct jscan *s, const char *why)
{
	s->state = ST_BAD;
	s->why = why;
	s->at = s->pos;
}

static bool top_is_object(const struct jscan *s)
{
	unsigned d = s->depth - 1u;

	return s->stack[d / 8] & (1u << (d % 8));
}

static void push(struct jscan *s, bool object, uint8_t next)
{
	unsigned d = s->depth;

	if (d >= JSCAN_DEPTH) {
		bad(s, "nested too deep");
		return;
	}
	if (object)
		s->stack[d / 8] |= (uint8_t)(1u << (d % 8));
	else
		s->stack[d / 8] &= (uint8_t) ~(1u << (d % 8));
	s->depth++;
	s->state = next;
}

/* A value has ended: the document, or a member of the open level. */
static void value_end(struct jscan *s)
{
	s->state = s->depth ? ST_AFTER : ST_DONE;
}

static void pop(struct jscan *s)
{
	s->depth--;
	value_end(s);
}

static void start_value(struct jscan *s, char c)
{
	if (!s->depth && s->top_object && c != '{') {
		bad(s, "the spec must be a JSON object");
		return;
	}
	switch (c) {
	case '{':
		push(s, true, ST_KEY_OR_CLOSE);
		return;
	case '[':
		push(s, false, ST_VALUE_OR_CLOSE);
		return;
	case '"':
		s->key = false;
		s->state = ST_STRING;
		return;
	case '-':
		s->state = ST_NUMBER;
		s->sub = N_MINUS;
		return;
	case 't':
	case 'f':
	case 'n':
		s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
		s->sub = 1;
		s->state = ST_LITERAL;
		return;
	default:
		break;
	}
	if (is_digit(c)) {
		s->state = ST_NUMBER;
		s->sub = c == '0' ? N_ZERO : N_INT;
		return;
	}
	bad(s, "unexpected character where a value should be");
}

/* The number's next byte @c: true when it continues the number. */
static bool number_step(struct jscan *s, char c)
{
	switch (s->sub) {
	case N_MINUS:
		if (!is_digit(c))
			return false;
		s->sub = c == '0' ? N_ZERO : N_INT;
		return true;
	case N_INT:
		/* More digits; else '.' or an exponent, as after a 0. */
		if (is_digit(c))
			return true;
		/* fall through */
	case N_ZERO:
		if (c == '.')
			s->sub = N_DOT;
		else if (c == 'e' || c == 'E')
			s->sub = N_E;
		else
			return false;
		return true;
	case N_DOT:
	case N_FRAC:
		if (is_digit(c)) {
			s->sub = N_FRAC;
			return true;
		}
		if (s->sub == N_FRAC && (c == 'e' || c == 'E')) {
			s->sub = N_E;
			return true;
		}
		return false;
	case N_E:
		if (c == '+' || c == '-') {
			s->sub = N_ESIGN;
			return true;
		}
		/* fall through */
	case N_ESIGN:
	case N_EXP:
		if (!is_digit(c))
			return false;
		s->sub = N_EXP;
		return true;
	default:
		return false;
	}
}

static bool number_complete(const struct jscan *s)
{
	return s->sub == N_ZERO || s->sub == N_INT || s->sub == N_FRAC || s->sub == N_EXP;
}

static void step(struct jscan *s, char c)
{
	switch (s->state) {
	case ST_VALUE_OR_CLOSE:
		if (c == ']') {
			pop(s);
			return;
		}
		/* fall through */
	case ST_VALUE:
		if (!is_ws(c))
			start_value(s, c);
		return;
	case ST_KEY_OR_CLOSE:
		if (c == '}') {
			pop(s);
			return;
		}
		/* fall through */
	case ST_KEY:
		if (c == '"') {
			s->key = true;
			s->state = ST_STRING;
		} else if (!is_ws(c)) {
			bad(s, "expected a key in double quotes");
		}
		return;
	case ST_COLON:
		if (c == ':')
			s->state = ST_VALUE;
		else if (!is_ws(c))
			bad(s, "expected ':' after a key");
		return;
	case ST_AFTER:
		if (is_ws(c))
			return;
		if (c == ',')
			s->state = top_is_object(s) ? ST_KEY : ST_VALUE;
		else if (c == (top_is_object(s) ? '}' : ']'))
			pop(s);
		else
			bad(s, top_is_object(s) ? "expected ',' or '}'" : "expected ',' or ']'");
		return;
	case ST_STRING:
		if (c == '"') {
			if (s->key)
				s->state = ST_COLON;
			else
				value_end(s);
		} else if (c == '\\') {
			s->state = ST_ESCAPE;
		} else if ((unsigned char)c < 0x20) {
			bad(s, "a control character in a string");
		}
		return;
	case ST_ESCAPE:
		if (c == 'u') {
			s->sub = 0;
			s->state = ST_UNICODE;
		} else if (c && strchr("\"\\/bfnrt", c)) {
			s->state = ST_STRING;
		} else {
			bad(s, "an invalid escape in a string");
		}
		return;
	case ST_UNICODE:
		if (!is_hex(c))
			bad(s, "an invalid \\u escape in a string");
		else if (++s->sub == 4)
			s->state = ST_STRING;
		return;
	case ST_NUMBER:
		if (number_step(s, c))
			return;
		if (!number_complete(s)) {
			bad(s, "an invalid number");
			return;
		}
		/* The number ended before @c: @c is what follows it. */
		value_end(s);
		step(s, c);
		return;
	case ST_LITERAL:
		if (c != s->lit[s->sub])
			bad(s, "an invalid literal (true, false or null)");
		else if (!s->lit[++s->sub])
			value_end(s);
		return;
	case ST_DONE:
		if (!is_ws(c))
			bad(s, "bytes after the end of the JSON document");
		return;
	default:
		return;
	}
}

void jscan_init(struct jscan *s, bool top_object)
{
	memset(s, 0, sizeof(*s));
	s->state = ST_VALUE;
	s->top_object = top_object;
	s->status = JSCAN_MORE;
}

enum jscan_status jscan_feed(struct jscan *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && s->state != ST_BAD; i++) {
		step(s, buf[i]);
		s->pos++;
	}
	s->status = s->state == ST_BAD ? JSCAN_BAD : s->state == ST_DONE ? JSCAN_DONE : JSCAN_MORE;
	return s->status;
}
