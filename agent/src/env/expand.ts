// The kubelet's $(VAR) expansion (third_party/forked/golang/expansion), rule
// for rule: `$$` is a literal `$`, `$(NAME)` is NAME's value when NAME is
// known and stays as written when it is not, an unclosed `$(` and a `$`
// before any other character are copied as they are.

/** Looks a name up; undefined = unknown (the reference stays literal). */
export type Lookup = (name: string) => string | undefined;

/** A lookup over maps tried in order, as MappingFuncFor. */
export function lookupIn(...maps: ReadonlyMap<string, string>[]): Lookup {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

export function expand(input: string, lookup: Lookup): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === "$") {
      out += "$"; // escaped operator
    } else if (rest[0] === "(") {
      const close = rest.indexOf(")", 1);
      if (close < 0) {
        out += "$("; // incomplete reference: copied, scanning goes on after "("
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`; // a lone operator: itself and the next character
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
