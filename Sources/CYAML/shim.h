#ifndef TAI_CYAML_SHIM_H
#define TAI_CYAML_SHIM_H
#include <yaml.h>
#endif
