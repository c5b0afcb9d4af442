"""The bottom layer: parameter values, cases, exact integers, hashing and generated code.

Nothing here knows about sources. `values` checks and encodes what a parameter may
hold, `case` is `ParamCase`, `intstr` writes and reads integers of any size,
`hashing` is the stable digest behind ``case_id``, and `codegen` compiles and caches
the Python text that sources generate for their hot paths.
"""
