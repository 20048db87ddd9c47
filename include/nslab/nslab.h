/* SPDX-License-Identifier: MIT */
/* nslab/nslab.h - everything public: errors, labs, the supervisor and its clients, firewall tests, the sandbox. */
#ifndef NSLAB_NSLAB_H
#define NSLAB_NSLAB_H

#include <nslab/error.h>
#include <nslab/lab.h>
#include <nslab/control.h>
#include <nslab/fwtest.h>
#include <nslab/sandbox.h>
#include <nslab/sim.h>

#endif
