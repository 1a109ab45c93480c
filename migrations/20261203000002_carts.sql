-- Shopping carts (issue 8 §3): one open cart per station, changed through `cart.change`
-- commands; checking out archives it with the order it became.

CREATE TABLE carts (
    id               uuid PRIMARY KEY,
    station_id       uuid NOT NULL REFERENCES stations (id),
    status           text NOT NULL CHECK (status IN ('OPEN', 'CHECKED_OUT')),
    version          integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    master_order_id  uuid,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    checked_out_at   timestamptz
);
CREATE UNIQUE INDEX carts_one_open_per_station ON carts (station_id) WHERE status = 'OPEN';

CREATE TABLE cart_items (
    cart_id      uuid NOT NULL REFERENCES carts (id),
    product_id   uuid NOT NULL REFERENCES products (id),
    supplier_id  uuid NOT NULL REFERENCES suppliers (id),
    quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    -- Position in the cart: the order lines of a checkout keep it.
    position     integer NOT NULL,
    added_by     uuid NOT NULL,
    added_at     timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (cart_id, product_id, supplier_id)
);
