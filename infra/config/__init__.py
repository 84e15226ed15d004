"""The stack config: `Pulumi.<stack>.yaml` read, validated and turned into the components' arguments.

- `schema`: `StackConfig`, the `meridian:` keys; `workload`: the analyses' inputs;
- `loading`: read and validate a stack file (`load_stack_file`); `errors`: issues and `ConfigError`;
- `rules`: the checks across keys; `component_args`: the components' arguments from a `StackConfig`;
- `naming`: the namespace and the physical names.

This file imports nothing, so reading a stack file loads no Pulumi SDK.
"""
