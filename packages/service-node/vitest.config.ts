import { orgchatVitestConfig } from "../../vitest.shared.ts";

// One module registry per worker (vitest.shared.ts says when a package may): no test here mocks a
// module or stubs a global.
export default orgchatVitestConfig({ isolate: false });
