<?php

declare(strict_types=1);

namespace GoldPlan\Exception;

class InternalException extends GoldPlanException
{
}
