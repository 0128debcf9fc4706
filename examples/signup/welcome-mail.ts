import type { User } from "./user.js";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** The welcome mail a new user receives. */
export function renderWelcomeMail(user: User): Mail {
  return {
    to: user.email,
    subject: `Welcome, ${user.name}!`,
    text: [
      `Hi ${user.name},`,
      "",
      "Thanks for signing up. Your workspace is being set up with ten starter items;",
      "they will be there when you log in.",
      "",
      "— The team",
    ].join("\n"),
  };
}
