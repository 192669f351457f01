// Process signals: SIGTERM/SIGINT ask the loop to stop, SIGHUP asks camrt's ConfigWatcher to reload,
// SIGPIPE is ignored (a vanished TCP client or engine server is an error return, not a kill).
#pragma once

namespace rv1103 {

void install_signal_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked to stop, 0 if none
// Sleeps up to `seconds`, returning early when a stop is requested (signals interrupt the sleep).
void sleep_unless_stopped(double seconds);

}  // namespace rv1103
