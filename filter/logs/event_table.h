// The readable form of events for a terminal. Every value is printed through
// append_terminal_safe: names come from the network, and a hostile name must not be able to
// move the cursor, clear the screen or forge a line of output.
#pragma once

#include <string>
#include <string_view>

#include "filter/logs/event_line.h"

namespace egressguard::logs {

// Printable ASCII as is, '\\' as "\\\\", every other byte (controls, DEL, >= 0x80) as \xNN.
void append_terminal_safe(std::string& out, std::string_view bytes);

// The column titles of append_table_row, with a newline.
std::string table_header();

// One event as a table row with a newline: time, group, src, name, action, category, and
// "rule list:line" (or the reason when no rule decided). `scratch` is reused for decoding.
void append_table_row(std::string& out, const EventLine& event, std::string& scratch);

}  // namespace egressguard::logs
