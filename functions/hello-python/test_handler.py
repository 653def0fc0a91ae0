"""Unit tests for hello-python; run with `python3 -m unittest` in this folder."""
import os
import time
import unittest
from unittest import mock

import handler


class GreetingTest(unittest.TestCase):
    def test_greeting(self):
        cases = [
            ("prescale", "Hello, prescale!"),
            ("  two   words \n", "Hello, two words!"),
            ("", "Hello, world!"),
            ("\n", "Hello, world!"),
        ]
        for body, want in cases:
            with self.subTest(body=body):
                self.assertEqual(handler.greeting(body), want)

    def test_long_body_is_clipped(self):
        got = handler.greeting("x" * 1000)
        self.assertTrue(got.endswith("...!"))
        self.assertLess(len(got), handler.MAX_NAME + 20)


class CpuMsTest(unittest.TestCase):
    def test_parse(self):
        cases = [({}, handler.DEFAULT_CPU_MS), ({"cpu_ms": "0"}, 0), ({"cpu_ms": " 35 "}, 35),
                 ({"cpu_ms": ""}, handler.DEFAULT_CPU_MS)]
        for env, want in cases:
            with self.subTest(env=env):
                self.assertEqual(handler.cpu_ms_from_env(env), want)

    def test_bad_values_name_the_variable(self):
        for raw in ["abc", "-1", "10001", "1.5"]:
            with self.subTest(raw=raw):
                with self.assertRaises(ValueError) as ctx:
                    handler.cpu_ms_from_env({"cpu_ms": raw})
                self.assertIn("cpu_ms", str(ctx.exception))

    def test_burn_uses_cpu_time(self):
        start = time.process_time()
        rounds = handler.burn(30)
        used = time.process_time() - start
        self.assertGreaterEqual(used, 0.030)
        self.assertGreater(rounds, 0)
        self.assertEqual(handler.burn(0), 0)


class SleepMsTest(unittest.TestCase):
    def test_parse(self):
        cases = [({}, 0), ({"sleep_ms": "0"}, 0), ({"sleep_ms": " 250 "}, 250), ({"sleep_ms": "60000"}, 60000)]
        for env, want in cases:
            with self.subTest(env=env):
                self.assertEqual(handler.sleep_ms_from_env(env), want)

    def test_bad_values_name_the_variable(self):
        for raw in ["soon", "-5", "60001", "0.5"]:
            with self.subTest(raw=raw):
                with self.assertRaises(ValueError) as ctx:
                    handler.sleep_ms_from_env({"sleep_ms": raw})
                self.assertIn("sleep_ms", str(ctx.exception))


class HandleTest(unittest.TestCase):
    def test_handle_waits_and_records_its_span(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            spans = os.path.join(d, "spans")
            with mock.patch.dict(os.environ, {"cpu_ms": "0", "sleep_ms": "30", "spans_file": spans}):
                cpu0, wall0 = time.process_time(), time.time()
                self.assertEqual(handler.handle("x"), "Hello, x!")
                handler.handle("y")
                cpu, wall = time.process_time() - cpu0, time.time() - wall0
            with open(spans) as f:
                lines = [tuple(map(float, l.split())) for l in f]
        self.assertGreaterEqual(wall, 0.060)
        self.assertLess(cpu, wall)  # waiting, not burning
        self.assertEqual(len(lines), 2)
        for start, end in lines:
            self.assertGreaterEqual(end - start, 0.030)
        self.assertLessEqual(lines[0][1], lines[1][0])

    def test_handle_greets_and_burns(self):
        with mock.patch.dict(os.environ, {"cpu_ms": "25"}):
            start = time.process_time()
            got = handler.handle("prescale")
            used = time.process_time() - start
        self.assertEqual(got, "Hello, prescale!")
        self.assertGreaterEqual(used, 0.025)

    def test_handle_under_python3_http(self):
        class Event:
            body = "  two   words ".encode()
        with mock.patch.dict(os.environ, {"cpu_ms": "0"}):
            self.assertEqual(handler.handle(Event(), object()), "Hello, two words!")
            Event.body = b"\xff"
            self.assertEqual(handler.handle(Event(), object()), "Hello, \ufffd!")

    def test_handle_rejects_bad_config(self):
        with mock.patch.dict(os.environ, {"cpu_ms": "lots"}):
            with self.assertRaises(ValueError):
                handler.handle("x")


if __name__ == "__main__":
    unittest.main()
