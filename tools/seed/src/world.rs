//! The demo world: invented organisations, catalogue, contracts and users, as plain tables.
//!
//! Every id is a UUIDv5 of [`NAMESPACE`] and a natural key (`"station:ST-CAV-01"`), so the
//! seed is idempotent and tests can name demo rows with the helpers below without a query.
//! Town names are real French fruit and vegetable packing areas; every company, address and
//! person is made up.

use chrono::NaiveDate;
use uuid::Uuid;

use bluewhale::domain::roles::Role;

/// Namespace of every demo id (a fixed random UUID; changing it re-keys the whole world).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_3c2e_9a47_4d05_b8e1_52c0_7f3a_91d4);

/// Domain of every demo email address (reserved `.test` TLD: never deliverable).
pub const DEMO_EMAIL_DOMAIN: &str = "demo.bluewhale.test";

/// Demo administrator.
pub const ADMIN_EMAIL: &str = "admin@demo.bluewhale.test";
/// Demo manager.
pub const MANAGER_EMAIL: &str = "manager@demo.bluewhale.test";
/// Demo handler.
pub const HANDLER_EMAIL: &str = "handler@demo.bluewhale.test";
/// Demo station user of [`STATION_CODE`].
pub const STATION_EMAIL: &str = "station@demo.bluewhale.test";
/// Demo station user of [`STATION2_CODE`].
pub const STATION2_EMAIL: &str = "station2@demo.bluewhale.test";
/// Demo supplier user of [`SUPPLIER_CODE`].
pub const SUPPLIER_EMAIL: &str = "supplier@demo.bluewhale.test";
/// Demo supplier user of [`SUPPLIER2_CODE`].
pub const SUPPLIER2_EMAIL: &str = "supplier2@demo.bluewhale.test";

/// Station of `station@…` (Cavaillon, group SG-PROV).
pub const STATION_CODE: &str = "ST-CAV-01";
/// Station of `station2@…` (Moissac, group SG-GARO).
pub const STATION2_CODE: &str = "ST-MOI-01";
/// Supplier of `supplier@…`.
pub const SUPPLIER_CODE: &str = "EMBALSUD";
/// Supplier of `supplier2@…`.
pub const SUPPLIER2_CODE: &str = "PLASTIVAL";
/// Offered by both [`SUPPLIER_CODE`] and [`SUPPLIER2_CODE`], at different prices.
pub const DUAL_SOURCED_PRODUCT: &str = "BW-PUNN-0250";
/// Taxed at 5.50 % (food-grade fruit coating), sold by [`SUPPLIER_CODE`] beside 20 % lines.
pub const REDUCED_VAT_PRODUCT: &str = "BW-COAT-0020";
/// Discontinued product (inactive) that still has a line in [`SUPPLIER_CODE`]'s contract.
pub const INACTIVE_PRODUCT: &str = "BW-TRAY-0250";
/// Supplier whose next-year contract exists as DRAFT.
pub const DRAFT_CONTRACT_SUPPLIER: &str = "CARTONOR";
/// Supplier whose previous-year contract exists as EXPIRED.
pub const EXPIRED_CONTRACT_SUPPLIER: &str = "EMBALSUD";

fn id(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{key}").as_bytes())
}

/// Id of the platform with this code.
pub fn platform_id(code: &str) -> Uuid {
    id("platform", code)
}
/// Id of the station group with this code.
pub fn station_group_id(code: &str) -> Uuid {
    id("station_group", code)
}
/// Id of the station with this code.
pub fn station_id(code: &str) -> Uuid {
    id("station", code)
}
/// Id of the supplier with this code.
pub fn supplier_id(code: &str) -> Uuid {
    id("supplier", code)
}
/// Mailbox of a supplier's order contact (new and cancelled purchase orders are e-mailed there).
pub fn supplier_contact_email(code: &str) -> String {
    format!("orders.{}@demo.bluewhale.test", code.to_lowercase())
}
/// Id of a supplier's site, by supplier code and site code (`MAIN` is the primary site).
pub fn supplier_site_id(supplier_code: &str, site_code: &str) -> Uuid {
    id("supplier_site", &format!("{supplier_code}:{site_code}"))
}
/// Id of the product with this code.
pub fn product_id(code: &str) -> Uuid {
    id("product", code)
}
/// Id of the contract with this number.
pub fn contract_id(number: &str) -> Uuid {
    id("master_contract", number)
}
/// Id of a contract's line for a product.
pub fn contract_line_id(contract_number: &str, product_code: &str) -> Uuid {
    id(
        "contract_line",
        &format!("{contract_number}:{product_code}"),
    )
}
/// Id of the demo user with this email (case-insensitive, as emails are matched).
pub fn user_id(email: &str) -> Uuid {
    id("user", &email.to_lowercase())
}
/// Contract number of a supplier for a calendar year: `CT-<year>-<SUPPLIERCODE>`.
pub fn contract_number(year: i32, supplier_code: &str) -> String {
    format!("CT-{year}-{supplier_code}")
}
/// Id of a supplier's contract for a calendar year.
pub fn contract_id_for(year: i32, supplier_code: &str) -> Uuid {
    contract_id(&contract_number(year, supplier_code))
}

/// A Blue Whale warehouse.
#[derive(Debug, Clone, Copy)]
pub struct PlatformSeed {
    /// Unique code.
    pub code: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Town.
    pub city: &'static str,
}

/// Blue Whale warehouses.
pub const PLATFORMS: &[PlatformSeed] = &[
    PlatformSeed {
        code: "PF-CAV",
        name: "Blue Whale – plateforme Provence",
        city: "Cavaillon",
    },
    PlatformSeed {
        code: "PF-AGN",
        name: "Blue Whale – plateforme Sud-Ouest",
        city: "Agen",
    },
];

/// A group of cooperative stations.
#[derive(Debug, Clone, Copy)]
pub struct StationGroupSeed {
    /// Unique code.
    pub code: &'static str,
    /// Display name.
    pub name: &'static str,
}

/// Station groups.
pub const STATION_GROUPS: &[StationGroupSeed] = &[
    StationGroupSeed {
        code: "SG-PROV",
        name: "Union des coopératives fruitières de Provence",
    },
    StationGroupSeed {
        code: "SG-GARO",
        name: "Vergers et maraîchers de Garonne",
    },
];

/// A packing station.
#[derive(Debug, Clone, Copy)]
pub struct StationSeed {
    /// Unique code.
    pub code: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Code of its station group.
    pub group: &'static str,
    /// Code of the platform that serves it.
    pub platform: &'static str,
    /// Street address.
    pub address: &'static str,
    /// Postal code.
    pub postal_code: &'static str,
    /// Town.
    pub city: &'static str,
}

/// Packing stations.
pub const STATIONS: &[StationSeed] = &[
    StationSeed {
        code: "ST-CAV-01",
        name: "Station fruitière du Calavon",
        group: "SG-PROV",
        platform: "PF-CAV",
        address: "145 chemin des Vergers",
        postal_code: "84300",
        city: "Cavaillon",
    },
    StationSeed {
        code: "ST-CHT-01",
        name: "Primeurs de la Montagnette",
        group: "SG-PROV",
        platform: "PF-CAV",
        address: "8 avenue du Marché-Gare",
        postal_code: "13160",
        city: "Châteaurenard",
    },
    StationSeed {
        code: "ST-CAR-01",
        name: "Coopérative maraîchère du Comtat",
        group: "SG-PROV",
        platform: "PF-CAV",
        address: "32 route de Mazan",
        postal_code: "84200",
        city: "Carpentras",
    },
    StationSeed {
        code: "ST-MOI-01",
        name: "Vergers du Tarn-et-Garonne",
        group: "SG-GARO",
        platform: "PF-AGN",
        address: "5 rue des Chasselas",
        postal_code: "82200",
        city: "Moissac",
    },
    StationSeed {
        code: "ST-MAR-01",
        name: "Tomates et légumes du Val de Garonne",
        group: "SG-GARO",
        platform: "PF-AGN",
        address: "Zone artisanale de la Plaine, lot 12",
        postal_code: "47200",
        city: "Marmande",
    },
];

/// A supplier of packaging.
#[derive(Debug, Clone, Copy)]
pub struct SupplierSeed {
    /// Unique code, also part of its contract numbers.
    pub code: &'static str,
    /// Company name.
    pub name: &'static str,
}

/// Suppliers. They carry no SIRET: they are invented, and a made-up number could belong to a
/// real company.
pub const SUPPLIERS: &[SupplierSeed] = &[
    SupplierSeed {
        code: "EMBALSUD",
        name: "Emballages du Sud-Est",
    },
    SupplierSeed {
        code: "PLASTIVAL",
        name: "Plastiques du Val de Loire",
    },
    SupplierSeed {
        code: "CARTONOR",
        name: "Cartonnerie du Nord",
    },
    SupplierSeed {
        code: "ETIQLYON",
        name: "Étiquettes et marquage lyonnais",
    },
    SupplierSeed {
        code: "PALETTOC",
        name: "Palettes et caisserie d'Occitanie",
    },
];

/// A supplier's site (factory or depot).
#[derive(Debug, Clone, Copy)]
pub struct SupplierSiteSeed {
    /// Code of the supplier.
    pub supplier: &'static str,
    /// Site code, unique per supplier (part of the natural key only).
    pub site: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Street address.
    pub address: &'static str,
    /// Postal code.
    pub postal_code: &'static str,
    /// Town.
    pub city: &'static str,
    /// The supplier's main site (exactly one per supplier).
    pub is_primary: bool,
}

/// Supplier sites: one primary per supplier, plus a second depot for one of them.
pub const SUPPLIER_SITES: &[SupplierSiteSeed] = &[
    SupplierSiteSeed {
        supplier: "EMBALSUD",
        site: "MAIN",
        name: "Usine d'Avignon",
        address: "210 chemin de la Castelette",
        postal_code: "84000",
        city: "Avignon",
        is_primary: true,
    },
    SupplierSiteSeed {
        supplier: "PLASTIVAL",
        site: "MAIN",
        name: "Site de Saint-Avertin",
        address: "17 rue de la Thermoformeuse",
        postal_code: "37550",
        city: "Saint-Avertin",
        is_primary: true,
    },
    SupplierSiteSeed {
        supplier: "CARTONOR",
        site: "MAIN",
        name: "Cartonnerie d'Arras",
        address: "4 boulevard des Onduleuses",
        postal_code: "62000",
        city: "Arras",
        is_primary: true,
    },
    SupplierSiteSeed {
        supplier: "CARTONOR",
        site: "SUD",
        name: "Dépôt de Cavaillon",
        address: "60 allée des Cartonniers",
        postal_code: "84300",
        city: "Cavaillon",
        is_primary: false,
    },
    SupplierSiteSeed {
        supplier: "ETIQLYON",
        site: "MAIN",
        name: "Atelier de Villeurbanne",
        address: "23 rue des Imprimeurs",
        postal_code: "69100",
        city: "Villeurbanne",
        is_primary: true,
    },
    SupplierSiteSeed {
        supplier: "PALETTOC",
        site: "MAIN",
        name: "Scierie de Montauban",
        address: "9 route des Scieries",
        postal_code: "82000",
        city: "Montauban",
        is_primary: true,
    },
];

/// A catalogue product.
#[derive(Debug, Clone, Copy)]
pub struct ProductSeed {
    /// Unique code `BW-<FAMILY>-<NNNN>`.
    pub code: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Longer description.
    pub description: &'static str,
    /// Category (lower snake case).
    pub category: &'static str,
    /// Unit prices and quantities are expressed in.
    pub conditioning_unit: &'static str,
    /// Items per conditioning unit.
    pub quantity_per_conditioning: i32,
    /// Orderable.
    pub active: bool,
}

const fn product(
    code: &'static str,
    name: &'static str,
    description: &'static str,
    category: &'static str,
    conditioning_unit: &'static str,
    quantity_per_conditioning: i32,
) -> ProductSeed {
    ProductSeed {
        code,
        name,
        description,
        category,
        conditioning_unit,
        quantity_per_conditioning,
        active: true,
    }
}

/// The packaging catalogue (29 active products and one discontinued).
pub const PRODUCTS: &[ProductSeed] = &[
    // Trays
    product(
        "BW-TRAY-0400",
        "Barquette carton 400 g",
        "Barquette en carton compact pour fruits, contenance 400 g, 150 × 95 mm",
        "tray",
        "box_of_100",
        100,
    ),
    product(
        "BW-TRAY-0500",
        "Barquette carton 500 g",
        "Barquette en carton compact pour fruits, contenance 500 g, 185 × 115 mm",
        "tray",
        "box_of_100",
        100,
    ),
    product(
        "BW-TRAY-1000",
        "Barquette bois 1 kg",
        "Barquette en peuplier déroulé pour pêches et abricots, contenance 1 kg",
        "tray",
        "bundle_of_50",
        50,
    ),
    product(
        "BW-TRAY-3040",
        "Plateau carton 30 × 40 un rang",
        "Plateau en carton ondulé à coins renforcés, un rang de fruits, 300 × 400 mm",
        "tray",
        "pallet_of_600",
        600,
    ),
    product(
        "BW-TRAY-4060",
        "Plateau carton 40 × 60 deux rangs",
        "Plateau en carton ondulé à coins renforcés, deux rangs de fruits, 400 × 600 mm",
        "tray",
        "pallet_of_400",
        400,
    ),
    ProductSeed {
        code: "BW-TRAY-0250",
        name: "Barquette carton 250 g (arrêtée)",
        description: "Ancienne barquette 250 g, remplacée par la barquette PET 250 g",
        category: "tray",
        conditioning_unit: "box_of_100",
        quantity_per_conditioning: 100,
        active: false,
    },
    // Punnets
    product(
        "BW-PUNN-0125",
        "Barquette PET 125 g fruits rouges",
        "Barquette en PET recyclé pour framboises et myrtilles, 125 g",
        "punnet",
        "box_of_1200",
        1200,
    ),
    product(
        "BW-PUNN-0250",
        "Barquette PET 250 g",
        "Barquette en PET recyclé pour fraises et tomates cerises, 250 g",
        "punnet",
        "box_of_800",
        800,
    ),
    product(
        "BW-PUNN-0500",
        "Barquette PET 500 g",
        "Barquette en PET recyclé pour fraises et cerises, 500 g",
        "punnet",
        "box_of_500",
        500,
    ),
    // Crates
    product(
        "BW-CRAT-3040",
        "Caisse plastique pliable 30 × 40",
        "Caisse réutilisable pliable en polypropylène, 300 × 400 × 160 mm",
        "crate",
        "pallet_of_240",
        240,
    ),
    product(
        "BW-CRAT-4060",
        "Caisse plastique pliable 40 × 60",
        "Caisse réutilisable pliable en polypropylène, 400 × 600 × 240 mm",
        "crate",
        "pallet_of_160",
        160,
    ),
    product(
        "BW-CRAT-0600",
        "Cageot bois 60 × 40",
        "Cageot en peuplier agrafé pour melons et légumes, 600 × 400 mm",
        "crate",
        "pallet_of_300",
        300,
    ),
    // Cartons
    product(
        "BW-CART-0005",
        "Carton télescopique 5 kg",
        "Carton ondulé fond et couvercle, 5 kg de fruits, 400 × 300 × 110 mm",
        "carton",
        "bundle_of_50",
        50,
    ),
    product(
        "BW-CART-0010",
        "Carton télescopique 10 kg",
        "Carton ondulé fond et couvercle, 10 kg de fruits, 600 × 400 × 150 mm",
        "carton",
        "bundle_of_25",
        25,
    ),
    product(
        "BW-CART-0013",
        "Colis export pommes 13 kg",
        "Carton double cannelure pour pommes sur alvéoles, 13 kg",
        "carton",
        "pallet_of_400",
        400,
    ),
    // Films
    product(
        "BW-FILM-0300",
        "Film étirable palettes 23 µm",
        "Film étirable manuel pour palettes, laize 500 mm, rouleau de 300 m",
        "film",
        "roll",
        1,
    ),
    product(
        "BW-FILM-0400",
        "Film d'operculage barquettes",
        "Film thermoscellable pelable pour barquettes PET, laize 400 mm, rouleau de 500 m",
        "film",
        "roll",
        1,
    ),
    product(
        "BW-FILM-0150",
        "Film macro-perforé 15 µm",
        "Film polypropylène macro-perforé pour sachets de salades, laize 600 mm",
        "film",
        "roll",
        1,
    ),
    // Bags and nets
    product(
        "BW-BAGS-0001",
        "Sachet kraft 1 kg",
        "Sachet en papier kraft à soufflets, fenêtre cellulose, 1 kg",
        "bag",
        "box_of_1000",
        1000,
    ),
    product(
        "BW-BAGS-0002",
        "Filet tubulaire 2 kg",
        "Filet extrudé pour oignons, ail et agrumes, 2 kg, avec clip",
        "bag",
        "box_of_500",
        500,
    ),
    // Labels
    product(
        "BW-LABL-0100",
        "Étiquette thermique 100 × 150",
        "Étiquette logistique papier thermique direct, mandrin 76 mm",
        "label",
        "roll_of_1000",
        1000,
    ),
    product(
        "BW-LABL-0028",
        "Étiquette fruit adhésive 28 mm",
        "Étiquette ovale pour fruits, colle alimentaire, personnalisable",
        "label",
        "roll_of_2000",
        2000,
    ),
    product(
        "BW-LABL-0110",
        "Ruban transfert thermique 110 mm",
        "Ruban cire-résine pour imprimantes d'étiquettes, 110 mm × 450 m",
        "label",
        "roll",
        1,
    ),
    // Pallets
    product(
        "BW-PALL-0800",
        "Palette bois 80 × 120",
        "Palette quatre entrées en résineux traité HT, charge 1 000 kg",
        "pallet",
        "bundle_of_15",
        15,
    ),
    product(
        "BW-PALL-1000",
        "Palette bois 100 × 120",
        "Palette quatre entrées en résineux traité HT, charge 1 250 kg",
        "pallet",
        "bundle_of_15",
        15,
    ),
    product(
        "BW-PALL-0600",
        "Demi-palette 60 × 80",
        "Demi-palette en résineux traité HT pour présentoirs de magasin",
        "pallet",
        "bundle_of_20",
        20,
    ),
    // Accessories and consumables
    product(
        "BW-ACCS-0001",
        "Cornière carton 1 200 mm",
        "Cornière de palettisation en carton compact, 35 × 35 × 3 mm, longueur 1 200 mm",
        "accessory",
        "bundle_of_100",
        100,
    ),
    product(
        "BW-ACCS-0002",
        "Feuillard polypropylène 12 mm",
        "Feuillard de cerclage PP, 12 × 0,55 mm, bobine de 3 000 m",
        "accessory",
        "roll",
        1,
    ),
    product(
        "BW-ACCS-0003",
        "Alvéole pommes 30 × 50",
        "Alvéole en pâte moulée pour colis export, calibres 80 à 100",
        "accessory",
        "box_of_400",
        400,
    ),
    product(
        "BW-COAT-0020",
        "Cire alimentaire d'enrobage",
        "Cire d'enrobage pour pommes et agrumes (additif alimentaire), carton de 4 bidons de 5 L",
        "consumable",
        "carton_of_4",
        4,
    ),
];

/// One product's terms in a contract. Money and percentages are decimal strings, parsed
/// exactly at insertion time.
#[derive(Debug, Clone, Copy)]
pub struct LineSeed {
    /// Product code.
    pub product: &'static str,
    /// The supplier's own article reference.
    pub supplier_reference: &'static str,
    /// Price per conditioning unit, excluding VAT.
    pub unit_price: &'static str,
    /// Minimum quantity per order line, in conditioning units.
    pub min_order_quantity: i32,
    /// `(min_quantity, reduction_percent)` price breaks.
    pub price_breaks: &'static [(i32, &'static str)],
    /// VAT rate in percent.
    pub tax_rate: &'static str,
}

const fn line(
    product: &'static str,
    supplier_reference: &'static str,
    unit_price: &'static str,
    min_order_quantity: i32,
    price_breaks: &'static [(i32, &'static str)],
) -> LineSeed {
    LineSeed {
        product,
        supplier_reference,
        unit_price,
        min_order_quantity,
        price_breaks,
        tax_rate: "20.00",
    }
}

/// A supplier's terms for one contract.
#[derive(Debug, Clone, Copy)]
pub struct ContractTerms {
    /// Supplier code.
    pub supplier: &'static str,
    /// Minimum purchase order value excluding VAT, if any.
    pub minimum_order_value: Option<&'static str>,
    /// Lines, one per product.
    pub lines: &'static [LineSeed],
}

// Columns: product, supplier reference, unit price, minimum quantity, price breaks
// `(min_quantity, reduction_percent)`. Kept on one line each (rustfmt would split them).

/// The ACTIVE contract of each supplier for the current calendar year.
#[rustfmt::skip]
pub const ACTIVE_CONTRACTS: &[ContractTerms] = &[
    ContractTerms {
        supplier: "EMBALSUD",
        minimum_order_value: Some("150.00"),
        lines: &[
            line("BW-TRAY-0400", "ES-BC400",    "18.50", 5, &[(50, "3.00"), (200, "6.00")]),
            line("BW-TRAY-0500", "ES-BC500",    "21.40", 5, &[(50, "3.00"), (200, "6.00")]),
            line("BW-TRAY-1000", "ES-BB1K",     "27.90", 2, &[]),
            line("BW-TRAY-0250", "ES-BC250",    "15.20", 5, &[]),
            line("BW-PUNN-0125", "ES-PET125",   "64.80", 1, &[]),
            line("BW-PUNN-0250", "ES-PET250",   "52.00", 2, &[(20, "4.00"), (100, "8.50")]),
            line("BW-PUNN-0500", "ES-PET500",   "47.50", 2, &[]),
            // Food-grade coating: a food additive, hence the reduced VAT rate.
            LineSeed { tax_rate: "5.50", ..line("BW-COAT-0020", "ES-CIRE-4X5", "96.00", 1, &[]) },
        ],
    },
    ContractTerms {
        supplier: "PLASTIVAL",
        minimum_order_value: Some("200.00"),
        lines: &[
            line("BW-PUNN-0250", "PV-250-R",    "49.90", 10, &[(100, "5.00")]),
            line("BW-FILM-0300", "PV-ETI-23",   "14.20", 6,  &[(60, "7.50")]),
            line("BW-FILM-0400", "PV-OPC-400",  "88.00", 2,  &[]),
            line("BW-FILM-0150", "PV-MP15",     "61.30", 1,  &[]),
            line("BW-BAGS-0002", "PV-FIL2K",    "39.00", 2,  &[(40, "4.00")]),
        ],
    },
    ContractTerms {
        supplier: "CARTONOR",
        minimum_order_value: Some("300.00"),
        lines: &[
            line("BW-TRAY-3040", "CN-P3040",    "252.00", 1, &[(10, "4.00"), (30, "7.00")]),
            line("BW-TRAY-4060", "CN-P4060",    "236.00", 1, &[(10, "4.00"), (30, "7.00")]),
            line("BW-CART-0005", "CN-T5",       "31.50",  4, &[]),
            line("BW-CART-0010", "CN-T10",      "24.75",  4, &[]),
            line("BW-CART-0013", "CN-EXP13",    "412.00", 1, &[]),
            line("BW-BAGS-0001", "CN-KR1",      "45.60",  1, &[]),
            line("BW-ACCS-0001", "CN-COR1200",  "38.00",  1, &[]),
            line("BW-ACCS-0003", "CN-ALV3050",  "54.20",  2, &[]),
        ],
    },
    ContractTerms {
        supplier: "ETIQLYON",
        minimum_order_value: None,
        lines: &[
            line("BW-LABL-0100", "EL-TD100150", "9.80",  10, &[(50, "5.00"), (200, "10.00")]),
            line("BW-LABL-0028", "EL-OV28",     "12.60", 5,  &[]),
            line("BW-LABL-0110", "EL-RUB110",   "7.40",  1,  &[]),
        ],
    },
    ContractTerms {
        supplier: "PALETTOC",
        minimum_order_value: Some("250.00"),
        lines: &[
            line("BW-PALL-0800", "PO-P80120",   "142.50", 2, &[(20, "3.50")]),
            line("BW-PALL-1000", "PO-P100120",  "168.00", 2, &[]),
            line("BW-PALL-0600", "PO-DP6080",   "96.00",  1, &[]),
            line("BW-CRAT-0600", "PO-CAG6040",  "285.00", 1, &[]),
            line("BW-CRAT-3040", "PO-CP3040",   "672.00", 1, &[]),
            line("BW-CRAT-4060", "PO-CP4060",   "598.00", 1, &[]),
            line("BW-ACCS-0002", "PO-FEU12",    "22.30",  4, &[]),
        ],
    },
];

/// Next year's CARTONOR contract, still under negotiation (DRAFT, prices up about 4 %).
#[rustfmt::skip]
pub const DRAFT_NEXT_YEAR: ContractTerms = ContractTerms {
    supplier: "CARTONOR",
    minimum_order_value: Some("300.00"),
    lines: &[
        line("BW-TRAY-3040", "CN-P3040",    "262.00", 1, &[(10, "4.00"), (30, "7.00")]),
        line("BW-TRAY-4060", "CN-P4060",    "245.50", 1, &[(10, "4.00"), (30, "7.00")]),
        line("BW-CART-0010", "CN-T10",      "25.70",  4, &[]),
    ],
};

/// Last year's EMBALSUD contract (EXPIRED, slightly lower prices).
#[rustfmt::skip]
pub const EXPIRED_PREVIOUS_YEAR: ContractTerms = ContractTerms {
    supplier: "EMBALSUD",
    minimum_order_value: Some("120.00"),
    lines: &[
        line("BW-TRAY-0400", "ES-BC400",    "17.90", 5, &[(50, "3.00")]),
        line("BW-TRAY-0250", "ES-BC250",    "14.80", 5, &[]),
        line("BW-PUNN-0250", "ES-PET250",   "50.40", 2, &[(20, "4.00")]),
    ],
};

/// A contract to seed, with its status and validity resolved for a given year.
#[derive(Debug, Clone)]
pub struct ContractSeed {
    /// `CT-<year>-<SUPPLIERCODE>`.
    pub number: String,
    /// DRAFT, ACTIVE or EXPIRED.
    pub status: &'static str,
    /// January 1st of its year.
    pub valid_from: NaiveDate,
    /// December 31st of its year.
    pub valid_until: NaiveDate,
    /// Supplier, minimum order value and lines.
    pub terms: &'static ContractTerms,
}

/// The contracts of the world seeded in `year`: each supplier's ACTIVE contract for `year`,
/// a DRAFT for `year + 1` and an EXPIRED one for `year - 1`. `None` only for years chrono
/// cannot represent.
pub fn contracts(year: i32) -> Option<Vec<ContractSeed>> {
    let seed = |year: i32, status: &'static str, terms: &'static ContractTerms| {
        // A draft carries a suffix so that, seeded again next year, it does not take the
        // number of that year's ACTIVE contract.
        let number = match status {
            "DRAFT" => format!("{}-DRAFT", contract_number(year, terms.supplier)),
            _ => contract_number(year, terms.supplier),
        };
        Some(ContractSeed {
            number,
            status,
            valid_from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            valid_until: NaiveDate::from_ymd_opt(year, 12, 31)?,
            terms,
        })
    };
    let mut all = Vec::with_capacity(ACTIVE_CONTRACTS.len() + 2);
    for terms in ACTIVE_CONTRACTS {
        all.push(seed(year, "ACTIVE", terms)?);
    }
    all.push(seed(year + 1, "DRAFT", &DRAFT_NEXT_YEAR)?);
    all.push(seed(year - 1, "EXPIRED", &EXPIRED_PREVIOUS_YEAR)?);
    Some(all)
}

/// The organisation a demo user belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoOrg {
    /// Blue Whale staff (no org id).
    BlueWhale,
    /// A station, by code.
    Station(&'static str),
    /// A supplier, by code.
    Supplier(&'static str),
}

impl DemoOrg {
    /// Database spelling of the organisation type.
    pub fn org_type(self) -> &'static str {
        match self {
            DemoOrg::BlueWhale => "BLUEWHALE",
            DemoOrg::Station(_) => "STATION",
            DemoOrg::Supplier(_) => "SUPPLIER",
        }
    }

    /// The organisation's id (`None` for Blue Whale).
    pub fn org_id(self) -> Option<Uuid> {
        match self {
            DemoOrg::BlueWhale => None,
            DemoOrg::Station(code) => Some(station_id(code)),
            DemoOrg::Supplier(code) => Some(supplier_id(code)),
        }
    }
}

/// A demo user; every one gets the demo password.
#[derive(Debug, Clone, Copy)]
pub struct UserSeed {
    /// Login email.
    pub email: &'static str,
    /// Display name.
    pub full_name: &'static str,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub org: DemoOrg,
}

/// Demo users, one per role, and two each for stations and suppliers (to test scoping).
pub const USERS: &[UserSeed] = &[
    UserSeed {
        email: ADMIN_EMAIL,
        full_name: "Hélène Marchetti",
        role: Role::Admin,
        org: DemoOrg::BlueWhale,
    },
    UserSeed {
        email: MANAGER_EMAIL,
        full_name: "Julien Roussel",
        role: Role::Manager,
        org: DemoOrg::BlueWhale,
    },
    UserSeed {
        email: HANDLER_EMAIL,
        full_name: "Camille Fabre",
        role: Role::Handler,
        org: DemoOrg::BlueWhale,
    },
    UserSeed {
        email: STATION_EMAIL,
        full_name: "Mathieu Garnier",
        role: Role::Station,
        org: DemoOrg::Station(STATION_CODE),
    },
    UserSeed {
        email: STATION2_EMAIL,
        full_name: "Sophie Lacombe",
        role: Role::Station,
        org: DemoOrg::Station(STATION2_CODE),
    },
    UserSeed {
        email: SUPPLIER_EMAIL,
        full_name: "Nadia Berthier",
        role: Role::Supplier,
        org: DemoOrg::Supplier(SUPPLIER_CODE),
    },
    UserSeed {
        email: SUPPLIER2_EMAIL,
        full_name: "Thomas Vidal",
        role: Role::Supplier,
        org: DemoOrg::Supplier(SUPPLIER2_CODE),
    },
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use rust_decimal::Decimal;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn codes_are_unique_and_references_resolve() {
        let unique = |codes: Vec<&str>| codes.iter().collect::<HashSet<_>>().len() == codes.len();
        assert!(unique(PLATFORMS.iter().map(|p| p.code).collect()));
        assert!(unique(STATION_GROUPS.iter().map(|g| g.code).collect()));
        assert!(unique(STATIONS.iter().map(|s| s.code).collect()));
        assert!(unique(SUPPLIERS.iter().map(|s| s.code).collect()));
        assert!(unique(PRODUCTS.iter().map(|p| p.code).collect()));
        assert!(unique(USERS.iter().map(|u| u.email).collect()));
        let has = |codes: &[&str], c: &str| codes.contains(&c);
        let platforms: Vec<_> = PLATFORMS.iter().map(|p| p.code).collect();
        let groups: Vec<_> = STATION_GROUPS.iter().map(|g| g.code).collect();
        let stations: Vec<_> = STATIONS.iter().map(|s| s.code).collect();
        let suppliers: Vec<_> = SUPPLIERS.iter().map(|s| s.code).collect();
        let products: Vec<_> = PRODUCTS.iter().map(|p| p.code).collect();
        for s in STATIONS {
            assert!(
                has(&platforms, s.platform) && has(&groups, s.group),
                "{}",
                s.code
            );
        }
        for site in SUPPLIER_SITES {
            assert!(has(&suppliers, site.supplier), "{}", site.name);
        }
        for c in contracts(2026).expect("year") {
            assert!(has(&suppliers, c.terms.supplier), "{}", c.number);
            let lines: Vec<_> = c.terms.lines.iter().map(|l| l.product).collect();
            assert!(
                unique(lines.clone()),
                "one line per product in {}",
                c.number
            );
            for p in lines {
                assert!(has(&products, p), "{p} in {}", c.number);
            }
        }
        for u in USERS {
            match u.org {
                DemoOrg::Station(code) => assert!(has(&stations, code)),
                DemoOrg::Supplier(code) => assert!(has(&suppliers, code)),
                DemoOrg::BlueWhale => assert!(u.role.is_staff()),
            }
            assert!(u.email.ends_with(&format!("@{DEMO_EMAIL_DOMAIN}")));
        }
    }

    #[test]
    fn world_has_the_promised_shape() {
        assert!(STATIONS.len() >= 4);
        assert_eq!(STATION_GROUPS.len(), 2);
        assert_eq!(SUPPLIERS.len(), 5);
        assert!(PRODUCTS.iter().filter(|p| p.active).count() >= 25);
        for s in SUPPLIERS {
            let primaries = SUPPLIER_SITES
                .iter()
                .filter(|site| site.supplier == s.code && site.is_primary)
                .count();
            assert_eq!(primaries, 1, "{}", s.code);
            let active = ACTIVE_CONTRACTS
                .iter()
                .filter(|c| c.supplier == s.code)
                .count();
            assert_eq!(active, 1, "{}", s.code);
        }
        let station_orgs: HashSet<_> = USERS
            .iter()
            .filter_map(|u| match u.org {
                DemoOrg::Station(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(station_orgs.len(), 2);
    }

    #[test]
    fn dual_sourced_and_reduced_vat_products_are_as_documented() {
        let offers: Vec<(&str, &LineSeed)> = ACTIVE_CONTRACTS
            .iter()
            .flat_map(|c| c.lines.iter().map(move |l| (c.supplier, l)))
            .filter(|(_, l)| l.product == DUAL_SOURCED_PRODUCT)
            .collect();
        assert_eq!(offers.len(), 2);
        assert_ne!(offers[0].1.unit_price, offers[1].1.unit_price);
        let sellers: HashSet<_> = offers.iter().map(|(s, _)| *s).collect();
        assert_eq!(sellers, HashSet::from([SUPPLIER_CODE, SUPPLIER2_CODE]));

        let supplier_lines = &ACTIVE_CONTRACTS
            .iter()
            .find(|c| c.supplier == SUPPLIER_CODE)
            .expect("contract")
            .lines;
        let rates: HashMap<&str, Decimal> = supplier_lines
            .iter()
            .map(|l| (l.product, dec(l.tax_rate)))
            .collect();
        assert_eq!(rates[REDUCED_VAT_PRODUCT], dec("5.50"));
        assert!(rates.values().any(|r| *r == dec("20.00")));
        let inactive = PRODUCTS
            .iter()
            .find(|p| p.code == INACTIVE_PRODUCT)
            .expect("product");
        assert!(!inactive.active);
        assert!(rates.contains_key(INACTIVE_PRODUCT));
    }

    #[test]
    fn amounts_are_valid_two_decimal_values_and_breaks_ascend() {
        for c in contracts(2026).expect("year") {
            if let Some(mov) = c.terms.minimum_order_value {
                assert_eq!(dec(mov).scale(), 2);
            }
            for l in c.terms.lines {
                assert!(dec(l.unit_price) > Decimal::ZERO && dec(l.unit_price).scale() == 2);
                assert_eq!(dec(l.tax_rate).scale(), 2);
                assert!(l.min_order_quantity >= 1);
                let mut previous = (0, Decimal::ZERO);
                for (q, r) in l.price_breaks {
                    assert!(*q > previous.0 && dec(r) > previous.1, "{}", l.product);
                    assert!(dec(r) < dec("100") && dec(r).scale() == 2);
                    previous = (*q, dec(r));
                }
            }
        }
    }

    #[test]
    fn conditioning_unit_names_agree_with_quantities() {
        for p in PRODUCTS {
            match p.conditioning_unit.rsplit_once("_of_") {
                Some((_, n)) => assert_eq!(
                    n.parse::<i32>().ok(),
                    Some(p.quantity_per_conditioning),
                    "{}",
                    p.code
                ),
                None => assert_eq!(p.quantity_per_conditioning, 1, "{}", p.code),
            }
        }
    }

    #[test]
    fn contracts_cover_whole_calendar_years() {
        let all = contracts(2026).expect("year");
        let active: Vec<_> = all.iter().filter(|c| c.status == "ACTIVE").collect();
        assert_eq!(active.len(), SUPPLIERS.len());
        for c in &active {
            assert_eq!(
                c.valid_from,
                NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
            );
            assert_eq!(
                c.valid_until,
                NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
            );
        }
        assert!(
            all.iter()
                .any(|c| c.status == "DRAFT" && c.number == "CT-2027-CARTONOR-DRAFT")
        );
        assert!(
            all.iter()
                .any(|c| c.status == "EXPIRED" && c.number == "CT-2025-EMBALSUD")
        );
        let numbers: HashSet<_> = all.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(numbers.len(), all.len());
    }

    #[test]
    fn ids_are_stable_and_distinct_per_kind() {
        assert_eq!(station_id("ST-CAV-01"), station_id("ST-CAV-01"));
        assert_ne!(station_id("X"), supplier_id("X"));
        assert_eq!(user_id("Admin@Demo.BlueWhale.test"), user_id(ADMIN_EMAIL));
        assert_eq!(
            contract_id_for(2026, "EMBALSUD"),
            contract_id("CT-2026-EMBALSUD")
        );
    }
}
