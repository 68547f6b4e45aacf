"""Tests of the lrcast Python client against a running server (LRCAST_URL, with the demo curves loaded).

Standard library only (no torch): python3 clients/python/test_lrcast.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lrcast  # noqa: E402

COSINE = "cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5"


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        url = os.environ.get("LRCAST_URL")
        if not url:
            raise unittest.SkipTest("LRCAST_URL is not set")
        cls.client = lrcast.Client(url, token=os.environ.get("LRCAST_TOKEN"))
        by_name = {c["name"]: c["id"] for c in cls.client.list_curves(limit=1000)["items"]}
        cls.fit_id = cls.client.fit([by_name[n] for n in ("25M/constant_24000", "25M/wsdcon_9", "25M/wsd_20000_24000")], "mpl", {"leaveOneOut": False})["id"]
        cls.cosine = cls.client.curve(by_name["25M/cosine_24000"])["points"]

    def test_live_run(self):
        c, points = self.client, self.cosine
        run = c.upload_curve("python-live", points[:40], planned_schedule=COSINE, meta={"client": "python"})
        batch = [(p["step"], p["loss"], p["lr"]) for p in points[40:60]]
        self.assertEqual(c.append_points(run, batch)["added"], 20)
        again = c.append_points(run, list(reversed(batch)))  # resent, in another order: nothing changes
        self.assertEqual((again["added"], again["unchanged"], again["pointCount"]), (0, 20, 60))

        with self.assertRaises(lrcast.LrcastError) as caught:
            c.append_points(run, [{"step": points[50]["step"], "loss": points[50]["loss"] + 1}])
        self.assertEqual(caught.exception.status, 409)
        self.assertEqual(caught.exception.field, "points[0].step")

        forecast = c.forecast(run, fit=self.fit_id, interval=0.8)
        self.assertEqual(forecast["steps"][0], points[59]["step"])
        self.assertEqual(forecast["final"]["step"], 23999)
        final = forecast["final"]
        self.assertLess(final["lower"], final["loss"])
        self.assertLess(final["loss"], final["upper"])
        self.assertEqual(len(forecast["history"]), 1)

        adhoc = c.forecast(run, law="lra")
        self.assertEqual(adhoc["source"], "law:lra")
        self.assertGreater(adhoc["final"]["loss"], 0)

    def test_errors_carry_the_problem(self):
        with self.assertRaises(lrcast.LrcastError) as caught:
            self.client.append_points(999999, [(1, 3.0)])
        self.assertEqual(caught.exception.status, 404)
        with self.assertRaises(lrcast.LrcastError) as caught:
            self.client.upload_curve("bad", [(0, -1.0, 1e-3)])
        self.assertEqual((caught.exception.status, caught.exception.field), (400, "points[0].loss"))
        with self.assertRaises(lrcast.LrcastError) as caught:
            lrcast.Client("http://127.0.0.1:9", timeout=2).list_curves()
        self.assertEqual(caught.exception.status, 0)

    def test_optimize_and_schedule_as_lambda_lr_factor(self):
        c = self.client
        result = c.optimize(fit=self.fit_id, totalSteps=2000, peakLr=3e-4, warmupSteps=100, space="wsd")
        lrs = c.schedule_lrs(result["scheduleId"])
        self.assertEqual(len(lrs), 2000)
        self.assertAlmostEqual(max(lrs), 3e-4, delta=1e-9)
        factor = c.lambda_lr_factor(result["scheduleId"], 3e-4)
        self.assertEqual(factor(0), lrs[0] / 3e-4)
        self.assertAlmostEqual(factor(1500), lrs[1500] / 3e-4)
        self.assertEqual(factor(10**6), lrs[-1] / 3e-4)  # past the end: the last lr holds

    def test_lambda_lr_factor_of_a_list(self):
        factor = lrcast.lambda_lr_factor([0.0, 1e-3, 5e-4], 1e-3)
        self.assertEqual([factor(s) for s in range(4)], [0.0, 1.0, 0.5, 0.5])
        with self.assertRaises(ValueError):
            lrcast.lambda_lr_factor([], 1e-3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
