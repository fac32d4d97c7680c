// egressguard: entry point. The subcommands live in filter/app/cmd_*.cc.
#include "filter/app/commands.h"

int main(int argc, char** argv) {
  return egressguard::app::run_cli(argc, argv);
}
