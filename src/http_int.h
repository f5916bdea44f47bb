/* SPDX-License-Identifier: MIT */
/* Shared by the two halves of the HTTP layer: http.c (requests) and
 * http_stream.c (streamed bodies). */
#ifndef CLOUDFS_HTTP_INT_H
#define CLOUDFS_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

/* True when the operation this thread serves was cancelled (Ctrl-C). */
bool http_cancelled(void);
/* CURLOPT_HEADERFUNCTION: keeps the headers cloudfs reads in a response. */
size_t http_on_header(char *line, size_t size, size_t n, void *arg);

#endif
