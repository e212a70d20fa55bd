"""The doors the bank uses: ISO 20022 messages (HTTP and Kafka) validated and normalised
(`messages`), accepted once and handed to evaluation (`service`); the Kafka consumer with its
dead letters (`consumer`) and its handlers per topic (`transactions`, `topups`, `selfcheck`)."""
