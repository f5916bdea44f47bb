/* SPDX-License-Identifier: MIT */
/*
 * The registry: the one place that knows which services exist. It hands
 * them to the core through include/cloudfs/service.h, as configfs is handed
 * its subsystems; the core includes no file of src/services/. A new service is a
 * file beside this one, its id in enum service and its line here.
 * Layer: services.
 */
#include "cloudfs/service.h"

extern const struct service_def service_compute, service_image, service_volume, service_network,
	service_orchestration;

const struct service_def *const services[SVC_COUNT] = {
	[SVC_COMPUTE] = &service_compute,
	[SVC_IMAGE] = &service_image,
	[SVC_VOLUME] = &service_volume,
	[SVC_NETWORK] = &service_network,
	[SVC_ORCHESTRATION] = &service_orchestration,
};
