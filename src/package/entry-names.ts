/**
 * Longest entry name in a package, in characters. Real paths stay far below (Windows clients extract under a
 * 260-character limit by default); the cap bounds the memory the entry list can take. Its own module so that code
 * that only checks names (the web UI's file paths) does not load the zip and nuspec readers.
 */
export const MAX_ENTRY_NAME_LENGTH = 1024;
