// A TypeScript worker of the signup flow: sends welcome mails and enrolls users. The
// launcher starts two; either can die and the other picks up its runs.
//   MAIL_SERVICE_URL=... MARKETING_SERVICE_URL=... node dist/signup/worker.js
import { serve } from "taskwire";
import { enrollInOnboarding, sendConfirmationEmail } from "./tasks.js";

await serve(sendConfirmationEmail, enrollInOnboarding, { limit: 10 });
