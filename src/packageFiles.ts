/**
 * Files the package ships beside its code (package.json, data/), located from this module's own
 * place. It runs from dist/src/ when compiled and from dist/bundle/ when bundled for the CLI: both
 * two levels below the package root, so one relative path serves both.
 */
export function packageFile(path: string): URL {
  return new URL(`../../${path}`, import.meta.url);
}
