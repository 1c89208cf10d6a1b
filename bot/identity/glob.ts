/**
 * glob(3)-style patterns (`*`, `?`, `[abc]`, `[!a-z]`) compiled to anchored regular
 * expressions. Used for IRC masks such as `alice!*@*.example.org`.
 */

/** Longest pattern we compile, to keep hostile patterns cheap. */
export const MAX_GLOB_LENGTH = 256;

/** Compiles a glob to an anchored RegExp; `ignoreCase` for IRC masks. */
export function globToRegExp(pattern: string, ignoreCase = false): RegExp {
  if (pattern.length > MAX_GLOB_LENGTH) throw new Error(`glob longer than ${MAX_GLOB_LENGTH}`);
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? "";
    if (ch === "*") {
      re += ".*";
      while (pattern[i + 1] === "*") i++;
    } else if (ch === "?") re += ".";
    else if (ch === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, close);
        const negate = body.startsWith("!");
        if (negate) body = body.slice(1);
        re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
        i = close;
      }
    } else re += ch.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, ignoreCase ? "is" : "s");
}

/** True when `text` matches the glob `pattern`. */
export function globMatch(pattern: string, text: string, ignoreCase = false): boolean {
  return globToRegExp(pattern, ignoreCase).test(text);
}
