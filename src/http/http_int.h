/* SPDX-License-Identifier: MIT */
/* Shared by the two halves of the HTTP layer: http.c (requests) and
 * http_stream.c (streamed bodies). */
#ifndef CLOUDFS_HTTP_INT_H
#define CLOUDFS_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "cloudfs/http.h"

/* CURLOPT_HEADERFUNCTION: keeps the headers cloudfs reads in a response. */
size_t http_on_header(char *line, size_t size, size_t n, void *arg);
/* The request's header list: no "Expect: 100-continue", then @first (or
 * none), the token, the caller's. *auth is the token line, a secret the
 * caller frees (cfs_free_secret) after the transfer. 0 or -ENOMEM. */
int http_headers(const struct http_request *req, const char *first, struct curl_slist **out,
		 char **auth);
/* What every request sets the same way: URL, method, @hdrs, timeouts, TLS,
 * and where the answer's headers and error text go. */
void http_setup(CURL *h, const struct http_request *req, struct curl_slist *hdrs,
		struct http_response *resp);

#endif
