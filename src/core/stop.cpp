#include "reciprocity/core/stop.hpp"

#include <csignal>

namespace reciprocity {
namespace {
volatile std::sig_atomic_t g_signal = 0;
extern "C" void record_signal(int sig) { g_signal = sig; }
}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // let MPI and file calls in progress complete
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);  // a closed terminal or session: stop as cleanly
  sigaction(SIGUSR1, &action, nullptr);  // Slurm's --signal=USR1@T, a common time-limit warning
  ignore_file_size_signal();
}

void ignore_file_size_signal() { std::signal(SIGXFSZ, SIG_IGN); }

bool stop_requested() { return g_signal != 0; }
int stop_signal() { return g_signal; }

}  // namespace reciprocity
