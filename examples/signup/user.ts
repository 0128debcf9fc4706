/** A signed-up user, as the API stores it and as the tasks receive it. */
export interface User {
  id: string;
  email: string;
  name: string;
}
