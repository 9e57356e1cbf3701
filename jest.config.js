/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // Type errors are reported once by `npm run typecheck`; ts-jest only transpiles (tsconfig's isolatedModules).
  transform: { "^.+\\.ts$": "ts-jest" },
  testTimeout: 30000,
};
