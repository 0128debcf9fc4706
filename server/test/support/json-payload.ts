/** A JSON payload as the wire carries it. */
export const json = (value: unknown) => ({
  contentType: "application/json",
  data: new TextEncoder().encode(JSON.stringify(value)),
});
