#include "FuzzDriver.h"

int FuzzRunDriver(int argc, char **argv) {
  return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
