/* SPDX-License-Identifier: MIT */
/*
 * The registry: the one place that knows which services exist. It hands
 * them to the core through include/cloudfs/service.h, as configfs is handed
 * its subsystems; the core includes no file of src/services/. A new service is a
 * file beside this one and its line here (the order is the mount root's).
 * Layer: services.
 */
#include "cloudfs/service.h"

extern const struct service_def service_compute, service_image, service_volume, service_network,
	service_orchestration, service_object_store, service_identity;

const struct service_def *const services[] = {
	&service_compute,	&service_image,	       &service_volume,	  &service_network,
	&service_orchestration, &service_object_store, &service_identity, NULL,
};

const size_t n_services = sizeof(services) / sizeof(services[0]) - 1;
