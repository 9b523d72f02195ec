#pragma once

namespace reciprocity {

/// Install SIGTERM/SIGINT handlers that only record the request (what Slurm sends before the
/// time limit); the sweep polls `stop_requested()` between runs and agrees on it collectively.
void install_stop_handlers();
/// True once SIGTERM or SIGINT was received by this process.
bool stop_requested();
/// The signal received (0 if none).
int stop_signal();

}  // namespace reciprocity
