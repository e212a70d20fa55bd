"""The wallet's pure logic: what a payment or top-up may do, decided from loaded facts."""
