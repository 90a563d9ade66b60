"""LSAvto Node: the CRM of a car dealership that keeps working when the network does not.

Layout (see ARCHITECTURE.md): ``crm`` is the domain and imports only the standard library,
``phonenumbers`` and ``store``'s interfaces; ``store`` is the only package that writes SQL;
``sync``, ``voice``, ``notify``, ``reports`` and ``ui`` are adapters around them; ``hub`` is the
hub process. Nothing depends on ``ui``.
"""

__version__ = "0.1.0"
