/** A signup the API refuses, naming the field that was wrong. */
export interface SignupRefusal {
  field: "email" | "name";
  error: string;
}

// Not the full RFC 5322 grammar: one @, no spaces, a dot in the domain. The welcome mail
// is the real check.
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// 100 characters fit any name in the mail's subject line.
const MAX_NAME = 100;

/** The signup as `{email, name}`, or why it is refused. */
export function validateSignup(body: unknown): { email: string; name: string } | SignupRefusal {
  const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof input.email !== "string" || !EMAIL.test(input.email.trim())) {
    return { field: "email", error: "email: must be an email address, like ada@example.com" };
  }
  if (typeof input.name !== "string" || input.name.trim() === "") {
    return { field: "name", error: "name: must be a non-empty string" };
  }
  if (input.name.trim().length > MAX_NAME) {
    return { field: "name", error: `name: must be at most ${MAX_NAME} characters` };
  }
  return { email: input.email.trim().toLowerCase(), name: input.name.trim() };
}
