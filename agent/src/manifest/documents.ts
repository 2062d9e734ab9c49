// A manifest file as documents: YAML (or JSON, which is YAML) split on `---`,
// each turned into plain values. Only syntax is judged here; what a document
// means is decode.ts's business.
import { parseAllDocuments, type ScalarTag } from "yaml";

export interface RawDocument {
  /** 1-based position among the file's documents, empty ones counted, so "doc 3" is the third `---` section. */
  index: number;
  value: unknown;
}

export interface SplitResult {
  /** Documents with content; empty ones (a trailing `---`, only comments, `~`) are left out. */
  docs: RawDocument[];
  /** Syntax errors, "doc N: ..." */
  errors: string[];
}

// kubectl reads YAML as 1.1 does, where `0644` is octal (420); YAML 1.2's core
// schema reads it as decimal 644. File modes are written that way
// (`defaultMode: 0400` in the Kubernetes docs), so take the 1.1 reading for
// this one form rather than set a mode nobody asked for. 1.1's yes/no
// booleans are not taken: a "yes" where a boolean belongs is an error, never a
// silent change.
const OCTAL_11: ScalarTag = {
  tag: "tag:yaml.org,2002:int",
  default: true,
  format: "OCT",
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
  identify: (v: unknown) => typeof v === "number",
};

export function splitDocuments(text: string): SplitResult {
  const docs: RawDocument[] = [];
  const errors: string[] = [];
  // `merge`: kubectl reads YAML 1.1 style `<<: *anchor` merge keys, and so do we.
  // Duplicate keys stay errors (the library's default): one of the two would be lost.
  parseAllDocuments(text, { merge: true, prettyErrors: true, customTags: (tags) => [OCTAL_11, ...tags] }).forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length > 0) {
      // prettyErrors puts a code excerpt after the first line; the first line has the position.
      for (const e of doc.errors) errors.push(`doc ${index}: ${e.message.split("\n")[0]!.replace(/:$/, "")}`);
      return;
    }
    if (doc.contents === null) return;
    let value: unknown;
    try {
      // Aliases are expanded here; the library's cap on them (maxAliasCount) stops a "billion laughs" file.
      value = doc.toJS();
    } catch (err) {
      errors.push(`doc ${index}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (value === null || value === undefined) return;
    docs.push({ index, value });
  });
  return { docs, errors };
}
