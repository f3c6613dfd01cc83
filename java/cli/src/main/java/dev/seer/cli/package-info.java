/** The {@code seer} command line (picocli): one class per command, option checks in one place ({@code OptionChecks}). */
package dev.seer.cli;
