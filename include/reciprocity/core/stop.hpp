#pragma once

namespace reciprocity {

/// Install SIGTERM/SIGINT/SIGHUP/SIGUSR1 handlers that only record the request (SIGTERM is what
/// Slurm sends before the time limit; SIGUSR1 what --signal=USR1@T sends); a TracIn run sees it
/// at its next step (train::Schedule::stop_on_request), the sweeps between runs and Marginal
/// retrainings, each agreed collectively. SIGXFSZ is ignored, so a write past the file-size limit fails (EFBIG) and
/// is reported like any write failure.
void install_stop_handlers();
/// Past the file-size limit (ulimit -f) a write then fails with EFBIG instead of the signal
/// killing the process with its results file marked running: reported as any write error (exit 4).
void ignore_file_size_signal();
/// True once SIGTERM, SIGINT, SIGHUP or SIGUSR1 was received by this process.
bool stop_requested();
/// The signal received (0 if none).
int stop_signal();

}  // namespace reciprocity
