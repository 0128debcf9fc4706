import { currentRun, task } from "taskwire";
import { deliverOnce } from "./deliver-once.js";
import { providerFails } from "./flaky-provider.js";
import type { User } from "./user.js";
import { renderWelcomeMail } from "./welcome-mail.js";

// The side effects of a signup, each a task the API defers and a worker runs.

const mailServiceUrl = () => process.env.MAIL_SERVICE_URL ?? "http://127.0.0.1:8025";
const marketingServiceUrl = () => process.env.MARKETING_SERVICE_URL ?? "http://127.0.0.1:8026";
const failureSeed = () => Number(process.env.SIGNUP_FAILURE_SEED ?? 42);

/**
 * Sends the welcome mail. The provider stand-in "fails" one attempt in five (seeded), and
 * five retries, a second apart, absorb that: six failures in a row happen once in 15,625
 * signups. The mail is sent at most once per user even when a run is redelivered
 * (deliverOnce, keyed by the user, not the attempt).
 */
export const sendConfirmationEmail = task(
  async function sendConfirmationEmail(user: User) {
    const run = currentRun();
    if (providerFails(failureSeed(), user.email, run?.attempt ?? 1)) {
      throw new Error("mail provider: 421 service not available, try again later");
    }
    return deliverOnce(mailServiceUrl(), "messages", `welcome:${user.id}`, { ...renderWelcomeMail(user) }, run?.signal);
  },
  { retries: 5, retryDelaySeconds: 1 },
);

/** Adds the user to the onboarding campaign of the marketing service. */
export const enrollInOnboarding = task(
  async function enrollInOnboarding(user: User) {
    const run = currentRun();
    const contact = { email: user.email, name: user.name, campaign: "onboarding" };
    return deliverOnce(marketingServiceUrl(), "contacts", `onboarding:${user.id}`, contact, run?.signal);
  },
  { retries: 3, retryDelaySeconds: 1 },
);

/**
 * Fills the new user's workspace: served by the Python worker (workspace_tasks.py). This
 * process only schedules it, by its task key; the body never runs here.
 */
export const populateWorkspace = task(
  "populateWorkspace",
  (user: User): { items: number } => {
    throw new Error(`populateWorkspace(${user.id}) runs in the Python worker (signup/workspace_tasks.py)`);
  },
  { retries: 3, retryDelaySeconds: 1 },
);
