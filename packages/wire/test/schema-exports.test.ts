import { expect, it } from "vitest";
import * as wire from "../src/index.js";
import * as schema from "../src/schema.js";

it("exports exactly the documented protobuf-es surface from @orgchat/wire/schema", () => {
  // A change here is a change to what consumers can import: add a changeset for it.
  expect(Object.keys(schema).sort()).toMatchSnapshot();
});

it("offers each name in one entry only", () => {
  const main = new Set(Object.keys(wire));
  expect(Object.keys(schema).filter((name) => main.has(name))).toEqual([]);
});
