export interface Framework { readonly framework: string }
export function parseFramework(text: string): Framework { return { framework: text }; }
export function shortFolderName(f: Framework): string { return f.framework; }
export function longName(f: Framework): string { return f.framework; }
export function frameworkAnswer(s: string): Record<string, unknown> { return { s }; }
