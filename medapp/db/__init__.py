"""Database layer: models, engine bootstrap, migrations, repositories. No Qt here."""
