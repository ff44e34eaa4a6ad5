"""Words the catalog is named with: departments, aisle nouns with their staple facts, brands, modifiers.

Aisle entries are (noun, staple, replenishment cycle in days, typical price). Staples are what a
household keeps in the pantry and re-buys on a cycle; the cycles and prices are rough US grocery
figures, good enough to give the weekly rhythm its shape.
"""

from __future__ import annotations

DEPARTMENTS: dict[str, list[tuple[str, bool, float, float]]] = {
    "produce": [
        ("bananas", True, 6, 1.6), ("apples", True, 10, 4.5), ("lettuce", True, 7, 2.5),
        ("tomatoes", True, 7, 3.0), ("onions", True, 18, 2.0), ("potatoes", True, 16, 4.0),
        ("berries", False, 0, 4.5), ("avocados", False, 0, 2.5), ("herbs", False, 0, 2.0),
        ("citrus", True, 12, 4.0), ("carrots", True, 14, 1.8), ("peppers", False, 0, 3.0),
    ],
    "dairy": [
        ("milk", True, 6, 3.8), ("eggs", True, 9, 4.2), ("yogurt", True, 8, 4.5),
        ("cheese", True, 14, 5.5), ("butter", True, 24, 4.8), ("cream", False, 0, 3.5),
        ("plant milk", True, 8, 4.2), ("cottage cheese", False, 0, 3.9),
    ],
    "bakery": [
        ("bread", True, 6, 3.5), ("bagels", False, 0, 4.0), ("tortillas", True, 14, 3.2),
        ("muffins", False, 0, 4.5), ("cakes", False, 0, 9.0), ("buns", False, 0, 3.5),
    ],
    "meat and seafood": [
        ("chicken", True, 8, 9.0), ("ground beef", True, 12, 8.0), ("bacon", False, 0, 7.0),
        ("sausages", False, 0, 6.0), ("salmon", False, 0, 12.0), ("shrimp", False, 0, 11.0),
        ("pork", False, 0, 8.5), ("turkey", False, 0, 8.0),
    ],
    "deli": [
        ("sliced ham", True, 9, 6.0), ("hummus", False, 0, 4.5), ("salsa", False, 0, 4.0),
        ("prepared meals", False, 0, 8.0), ("olives", False, 0, 5.0), ("dips", False, 0, 4.0),
    ],
    "frozen": [
        ("frozen pizza", False, 0, 7.0), ("ice cream", False, 0, 5.5), ("frozen vegetables", True, 16, 2.8),
        ("frozen meals", False, 0, 4.5), ("frozen fruit", False, 0, 5.0), ("frozen waffles", False, 0, 3.5),
        ("frozen fries", False, 0, 4.0),
    ],
    "pantry": [
        ("olive oil", True, 40, 9.0), ("flour", True, 45, 4.0), ("sugar", True, 45, 3.5),
        ("spices", False, 0, 4.5), ("baking mix", False, 0, 4.0), ("honey", False, 0, 7.0),
        ("peanut butter", True, 25, 4.5), ("jam", False, 0, 4.2), ("vinegar", False, 0, 3.5),
    ],
    "canned goods": [
        ("canned tomatoes", True, 20, 2.0), ("beans", True, 20, 1.6), ("soup", False, 0, 2.8),
        ("tuna", False, 0, 2.2), ("broth", True, 20, 3.0), ("canned corn", False, 0, 1.5),
    ],
    "dry goods and pasta": [
        ("pasta", True, 16, 2.2), ("rice", True, 28, 4.5), ("pasta sauce", True, 18, 4.0),
        ("noodles", False, 0, 3.0), ("grains", False, 0, 4.5), ("mac and cheese", False, 0, 2.0),
    ],
    "breakfast": [
        ("cereal", True, 12, 4.8), ("oatmeal", True, 24, 4.5), ("granola", False, 0, 5.5),
        ("pancake mix", False, 0, 4.0), ("breakfast bars", False, 0, 5.0),
    ],
    "snacks": [
        ("chips", False, 0, 4.2), ("crackers", True, 14, 3.8), ("cookies", False, 0, 4.5),
        ("nuts", False, 0, 7.0), ("popcorn", False, 0, 3.5), ("candy", False, 0, 3.0),
        ("trail mix", False, 0, 6.0), ("fruit snacks", False, 0, 3.5), ("chocolate", False, 0, 3.8),
    ],
    "beverages": [
        ("coffee", True, 18, 9.5), ("tea", True, 30, 5.0), ("sparkling water", True, 8, 5.5),
        ("juice", True, 9, 4.5), ("soda", False, 0, 6.5), ("energy drinks", False, 0, 8.0),
        ("bottled water", True, 10, 5.0), ("kombucha", False, 0, 3.8),
    ],
    "household": [
        ("paper towels", True, 20, 12.0), ("toilet paper", True, 22, 14.0), ("dish soap", True, 35, 3.8),
        ("laundry detergent", True, 40, 13.0), ("trash bags", True, 40, 10.0), ("cleaners", False, 0, 5.0),
        ("foil", False, 0, 5.5),
    ],
    "personal care": [
        ("toothpaste", True, 40, 4.5), ("shampoo", True, 50, 7.0), ("soap", True, 30, 5.0),
        ("deodorant", False, 0, 6.0), ("vitamins", False, 0, 12.0), ("razors", False, 0, 11.0),
    ],
    "babies": [
        ("diapers", True, 12, 25.0), ("baby food", True, 7, 6.0), ("wipes", True, 16, 9.0),
        ("formula", False, 0, 30.0),
    ],
    "pets": [
        ("dog food", True, 25, 18.0), ("cat food", True, 18, 14.0), ("cat litter", True, 28, 12.0),
        ("pet treats", False, 0, 6.0),
    ],
    "international": [
        ("soy sauce", False, 0, 3.5), ("curry paste", False, 0, 4.0), ("taco kits", False, 0, 4.5),
        ("ramen", False, 0, 1.2), ("coconut milk", False, 0, 2.5),
    ],
    "alcohol": [
        ("beer", False, 0, 12.0), ("wine", False, 0, 14.0), ("spirits", False, 0, 25.0),
        ("cider", False, 0, 10.0),
    ],
    "bulk": [("bulk nuts", False, 0, 9.0), ("dried fruit", False, 0, 6.5), ("bulk grains", False, 0, 5.0)],
    "health": [("protein powder", False, 0, 28.0), ("cold medicine", False, 0, 9.0), ("bandages", False, 0, 5.0)],
}

MODIFIERS = [
    "classic", "original", "family size", "lite", "whole", "natural", "fresh", "value pack",
    "low sodium", "unsweetened", "extra", "mini", "gluten free", "vanilla", "honey", "spicy", "plain",
    "smoked", "sea salt", "dark", "sweet", "mild", "crunchy", "creamy", "zero sugar", "multigrain",
]

BRAND_SYLLABLES = [
    "ac", "bel", "cor", "dal", "el", "fen", "gar", "hol", "ish", "jun", "kel", "lor", "mar", "nor", "ol",
    "pen", "quin", "ros", "sol", "tav", "um", "ver", "wil", "xan", "yor", "zel", "bra", "cla", "dre", "fra",
]
BRAND_SUFFIXES = ["", " farms", " foods", " co", " kitchen", " market", " select", " valley", " naturals", ""]
PRIVATE_LABEL = "market basics"
